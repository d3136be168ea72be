cargo run --release -- demo    # the whole scenario on the embedded emulator: no org, no credentials
cargo test                     # the test suite (offline; loopback only)
