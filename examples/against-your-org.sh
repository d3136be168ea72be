cp .env.example .env          # fill in region, client id and secret; never commit it
cargo install --path .
flowctl create-shared --name "Shared Greeting Module" --greeting "Hello, thank you for calling."
flowctl create-parent --name "Inbound Sales Flow" --name "Inbound Support Flow" \
    --shared "Shared Greeting Module" --queue "General Support"
flowctl verify --shared "Shared Greeting Module" \
    --parent "Inbound Sales Flow" --parent "Inbound Support Flow" --queue "General Support" \
    --output junit > verify.xml
