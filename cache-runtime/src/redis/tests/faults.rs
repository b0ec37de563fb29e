//! Faults of a real server: paused (`SIGSTOP`), killed and restarted, a port where nothing
//! listens. Each test has its own server; bounds are generous (a loaded CI machine), and the
//! speeds themselves are measured in the benchmark, not here.
