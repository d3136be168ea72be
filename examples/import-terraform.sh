flowctl import terraform examples/cx-as-code --var TF_ENV=dev --out examples/cx-as-code/flowctl.yaml
flowctl plan -f examples/cx-as-code/flowctl.yaml     # 3 to create: Support Waiting, then the module, then the line
flowctl apply -f examples/cx-as-code/flowctl.yaml
flowctl plan -f examples/cx-as-code/flowctl.yaml     # all unchanged
