cargo run --release -- --emulator create-shared --name "Shared Greeting Module"
cargo run --release -- --emulator create-parent --name "Inbound Sales Flow" \
    --shared "Shared Greeting Module" --queue "General Support"
cargo run --release -- --emulator verify --shared "Shared Greeting Module" --parent "Inbound Sales Flow"
