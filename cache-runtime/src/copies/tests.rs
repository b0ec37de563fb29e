//! The resting of a thread's copy table that keeps missing.

use super::*;

#[test]
fn a_table_that_wastes_more_than_a_quarter_of_its_probes_rests() {
    let slot = TableSlot::default();
    // 64 wasted probes and 191 answered: just under three answered per wasted.
    for _ in 0..ROUND {
        assert!(slot.probing());
        slot.wasted(FEWEST_ANSWERED - 1);
    }
    assert!(!slot.copying());
    let probed = (0..REST).filter(|_| slot.probing()).count();
    assert_eq!(probed, 0);
    assert!(slot.probing());
    assert!(slot.copying());
}

#[test]
fn a_table_that_answers_three_probes_in_four_keeps_being_probed() {
    let slot = TableSlot::default();
    for round in 1..=3 {
        for _ in 0..ROUND {
            assert!(slot.probing());
            slot.wasted(round * FEWEST_ANSWERED);
        }
    }
    assert!(slot.probing());
    assert!(slot.copying());
}

#[test]
fn a_resting_table_takes_copies_again_before_it_is_probed() {
    let slot = TableSlot::default();
    slot.rest.set(REST);
    let mut copying_from = None;
    for call in 0..REST {
        if copying_from.is_none() && slot.copying() {
            copying_from = Some(call);
        }
        assert!(!slot.probing());
    }
    assert_eq!(copying_from, Some(REST - WARM + 1));
}
