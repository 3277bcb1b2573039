"""``python -m simulator [--host 127.0.0.1] [--port 5010]`` — serve the simulator."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from werkzeug.serving import run_simple

from app.config import ROOT, configured_secrets, env_str
from simulator import SimulatorConfig, create_simulator_app


def main() -> None:
    parser = argparse.ArgumentParser(description="部门接口模拟器")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5010)
    args = parser.parse_args()
    # The same keys as the platform: environment, or in development instance/keys.env (`make setup`).
    secrets = configured_secrets(Path(env_str("INSTANCE_PATH") or ROOT / "instance"),
                                 env_str("APP_ENV", "development") or "development")
    config = SimulatorConfig(api_key=secrets["SIMULATOR_API_KEY"], tax_callback_secret=secrets["TAX_CALLBACK_SECRET"],
                             payment_callback_secret=secrets["PAYMENT_CALLBACK_SECRET"],
                             tax_callback_delay_s=float(os.environ.get("SIMULATOR_TAX_DELAY_S", "2")))
    run_simple(args.host, args.port, create_simulator_app(config), threaded=True)


if __name__ == "__main__":
    main()
