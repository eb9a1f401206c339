"""The real-tool checks (nginx -t, gixy) on hand-written nginx files."""

from __future__ import annotations

from pathlib import Path

from support import require_tool

from tornado_kit.check.nginx import load_nginx
from tornado_kit.check.tools import gixy_findings

# A Let's Encrypt certificate that exists only on the server, stapled: gixy flags the stapling.
STAPLED_LETSENCRYPT = """
server {
    listen 443 ssl;
    server_name example.com;
    ssl_certificate /etc/letsencrypt/live/tkit-test.invalid/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/tkit-test.invalid/privkey.pem;
    ssl_stapling on;
    location / { return 204; }
}
"""


def test_gixy_sees_the_real_certificate_paths(tmp_path: Path) -> None:
    config = tmp_path / "site.conf"
    config.write_text(STAPLED_LETSENCRYPT, encoding="utf-8")
    findings = gixy_findings(load_nginx(config), require_tool("gixy"))
    assert any("ssl_stapling_letsencrypt" in finding for finding in findings), findings
