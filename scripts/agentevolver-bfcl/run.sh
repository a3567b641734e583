#!/bin/bash
# Runs AgentEvolver's env_service with its BFCL environment, unchanged, from its source (see docs/env-service.md):
#   PORT=8080 bash scripts/agentevolver-bfcl/run.sh AGENTEVOLVER_CHECKOUT GORILLA_CHECKOUT
# The environment variables are those of AgentEvolver's env_service/launch_script/bfcl.sh.
set -eu
AGENTEVOLVER="$(cd "$1" && pwd)"
GORILLA="$(cd "$2" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BFCL_ENV_DIR="$AGENTEVOLVER/env_service/environments/bfcl"
export BFCL_DATA_PATH="$BFCL_ENV_DIR/bfcl_data/multi_turn_base_processed.jsonl"
export BFCL_SPLID_ID_PATH="$BFCL_ENV_DIR/bfcl_data/multi_turn_base_split_ids.json"
export BFCL_ANSWER_PATH="$GORILLA/berkeley-function-call-leaderboard/bfcl_eval/data/possible_answer"
export OPENAI_API_KEY=xx
export PYTHONPATH="$HERE/standins:$GORILLA/berkeley-function-call-leaderboard:$AGENTEVOLVER"
cd "$AGENTEVOLVER"
exec /usr/bin/python3 -m env_service.env_service --env bfcl --portal 127.0.0.1 --port "${PORT:-8080}"
