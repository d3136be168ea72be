flowctl emulator serve --addr 127.0.0.1:8787 --state org.json --job-ms 2000 --latency-ms 50 \
    --rate-limit 300 --index-lag-ms 1000 --faults 429=0.05,503=0.05,drop=0.02 --seed examples/seed.json
# first line of stdout: http://127.0.0.1:8787; then point flowctl (or any SDK) at it:
GENESYS_API_BASE_URL=http://127.0.0.1:8787 GENESYS_CLIENT_ID=flowctl-emulator \
    GENESYS_CLIENT_SECRET=emulator-secret flowctl whoami
