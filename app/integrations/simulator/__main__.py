"""``python -m app.integrations.simulator [--host 127.0.0.1] [--port 5010]`` — serve the simulator."""
from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from app.integrations.simulator import DEV_API_KEY, DEV_CALLBACK_SECRET, SimulatorConfig, create_simulator_app


def main() -> None:
    parser = argparse.ArgumentParser(description="部门接口模拟器")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5010)
    args = parser.parse_args()
    config = SimulatorConfig(api_key=os.environ.get("SIMULATOR_API_KEY", DEV_API_KEY),
                             callback_secret=os.environ.get("TAX_CALLBACK_SECRET", DEV_CALLBACK_SECRET),
                             tax_callback_delay_s=float(os.environ.get("SIMULATOR_TAX_DELAY_S", "2")))
    run_simple(args.host, args.port, create_simulator_app(config), threaded=True)


if __name__ == "__main__":
    main()
