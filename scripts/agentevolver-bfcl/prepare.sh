#!/bin/bash
# Prepares AgentEvolver's BFCL env service to run from source on Debian 12 (see docs/env-service.md):
#   bash scripts/agentevolver-bfcl/prepare.sh AGENTEVOLVER_CHECKOUT GORILLA_CHECKOUT
# Installs the Debian packages the service imports, then writes the BFCL task data as AgentEvolver's setup.sh does
# (bfcl_dataprocess.py, multi_turn_base, train/val halves) into AGENTEVOLVER_CHECKOUT/env_service/environments/bfcl/bfcl_data.
set -eu
AGENTEVOLVER="$(cd "$1" && pwd)"
GORILLA="$(cd "$2" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
apt-get install -y -q python3-fastapi python3-uvicorn python3-pandas python3-tqdm python3-filelock python3-tenacity \
  python3-dotenv python3-jinja2 python3-mpmath python3-tabulate python3-bs4 python3-html2text python3-networkx python3-httpx
export PYTHONPATH="$HERE/standins:$GORILLA/berkeley-function-call-leaderboard:$AGENTEVOLVER"
cd "$AGENTEVOLVER/env_service/environments/bfcl"
# bfcl_dataprocess.py builds a QwenFCHandler with gorilla's old constructor (env_handler.py needs gorilla's new one)
# and never uses it: that one name is replaced by a no-op for this step.
/usr/bin/python3 -c "
import env_service.environments.bfcl.bfcl_dataprocess as prep
prep.QwenFCHandler = lambda *args, **kwargs: None
prep.bfcl_task_preprocess(test_categories=['multi_turn_base'], train_ratio=0.5, output_dir='./bfcl_data')
"
