"""A stand-in for Grafana 11 in the real-engine test (Debian has no Grafana package).

Serves on :3000 what the platform and its tests use:
  GET /api/health                 200 {"database": "ok", "version": ...}
  GET /api/user                   the signed-in user; basic auth, 401 otherwise
  GET /api/datasources            provisioned datasources (basic auth)
  GET /api/search                 provisioned dashboards (basic auth)
  GET /api/dashboards/uid/UID     one provisioned dashboard (basic auth)
  GET /login                      200 HTML
Like Grafana, the admin password is taken from GF_SECURITY_ADMIN_PASSWORD (run.sh fills it from
GF_SECURITY_ADMIN_PASSWORD__FILE) only when grafana.db has no admin yet, i.e. at first start;
it is kept (salted PBKDF2) in the SQLite file $GF_PATHS_DATA/grafana.db.
"""
import base64
import glob
import hashlib
import hmac
import json
import os
import secrets
import signal
import sqlite3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

VERSION = "11.3.1"
DATA = os.environ.get("GF_PATHS_DATA", "/var/lib/grafana")
PROVISIONING = os.environ.get("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
DB = os.path.join(DATA, "grafana.db")


def _hash(password, salt):
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000, 50).hex()


def _db():
    conn = sqlite3.connect(DB, timeout=10)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS user (id INTEGER PRIMARY KEY, login TEXT UNIQUE NOT NULL,"
        " email TEXT, name TEXT, password TEXT NOT NULL, salt TEXT NOT NULL, is_admin INTEGER NOT NULL,"
        " created TEXT DEFAULT CURRENT_TIMESTAMP, updated TEXT DEFAULT CURRENT_TIMESTAMP)"
    )
    return conn


def ensure_admin():
    login = os.environ.get("GF_SECURITY_ADMIN_USER", "admin")
    with _db() as conn:
        if conn.execute("SELECT 1 FROM user WHERE id = 1").fetchone():
            return
        password = os.environ.get("GF_SECURITY_ADMIN_PASSWORD", "admin")
        salt = secrets.token_hex(5)
        conn.execute(
            "INSERT INTO user (id, login, email, name, password, salt, is_admin) VALUES (1, ?, ?, '', ?, ?, 1)",
            (login, "admin@localhost", _hash(password, salt), salt),
        )


def set_admin_password(login, password):
    ensure_admin()
    salt = secrets.token_hex(5)
    with _db() as conn:
        conn.execute(
            "UPDATE user SET password = ?, salt = ?, updated = CURRENT_TIMESTAMP WHERE id = 1",
            (_hash(password, salt), salt),
        )


def check_login(login, password):
    with _db() as conn:
        row = conn.execute("SELECT id, login, email, password, salt, is_admin FROM user WHERE login = ?", (login,)).fetchone()
    if row and hmac.compare_digest(row[3], _hash(password, row[4])):
        return {"id": row[0], "login": row[1], "email": row[2], "name": "", "isGrafanaAdmin": bool(row[5]), "orgId": 1}
    return None


def _yaml_files(sub):
    import yaml

    docs = []
    for path in sorted(glob.glob(os.path.join(PROVISIONING, sub, "*.y*ml"))):
        with open(path) as f:
            docs.append(yaml.safe_load(f) or {})
    return docs


def datasources():
    out = []
    for doc in _yaml_files("datasources"):
        for i, ds in enumerate(doc.get("datasources") or []):
            out.append({"id": len(out) + 1, "uid": ds.get("uid", "ds%d" % i), "name": ds.get("name"),
                        "type": ds.get("type"), "url": ds.get("url"), "access": ds.get("access", "proxy"),
                        "isDefault": bool(ds.get("isDefault", False)), "readOnly": True})
    return out


def dashboards():
    out = []
    for doc in _yaml_files("dashboards"):
        for provider in doc.get("providers") or []:
            path = (provider.get("options") or {}).get("path")
            for file in sorted(glob.glob(os.path.join(path or "/nonexistent", "**", "*.json"), recursive=True)):
                try:
                    with open(file) as f:
                        dash = json.load(f)
                except (OSError, ValueError):
                    continue
                out.append({"id": len(out) + 1, "uid": dash.get("uid"), "title": dash.get("title"),
                            "type": "dash-db", "tags": dash.get("tags", []), "url": "/d/%s" % dash.get("uid"),
                            "folderTitle": provider.get("folder", ""), "dashboard": dash})
    return out


def _sub_path():
    if os.environ.get("GF_SERVER_SERVE_FROM_SUB_PATH", "false").lower() != "true":
        return ""
    return urlsplit(os.environ.get("GF_SERVER_ROOT_URL", "")).path.rstrip("/")


class Handler(BaseHTTPRequestHandler):
    server_version = "Grafana-imitation/" + VERSION

    def _send(self, status, body, content_type="application/json"):
        data = (json.dumps(body) if content_type == "application/json" else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type + "; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _user(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            login, _, password = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return check_login(login, password)

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path
        prefix = _sub_path()
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            path = path[len(prefix):] or "/"
        if path == "/api/health":
            return self._send(200, {"commit": "imitation", "database": "ok", "version": VERSION})
        if path in ("/login", "/"):
            if path == "/" and not self._user():
                self.send_response(302)
                self.send_header("Location", prefix + "/login")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._send(200, "<!doctype html><title>Grafana</title><p>Grafana imitation</p>", "text/html")
        if path.startswith("/api/"):
            user = self._user()
            if user is None:
                return self._send(401, {"message": "Unauthorized"})
            if path == "/api/user":
                return self._send(200, user)
            if path == "/api/datasources":
                return self._send(200, datasources())
            if path == "/api/search":
                query = parse_qs(urlsplit(self.path).query).get("query", [""])[0].lower()
                found = [{k: v for k, v in d.items() if k != "dashboard"} for d in dashboards()
                         if query in (d["title"] or "").lower()]
                return self._send(200, found)
            if path.startswith("/api/dashboards/uid/"):
                uid = path.rsplit("/", 1)[1]
                for d in dashboards():
                    if d["uid"] == uid:
                        return self._send(200, {"dashboard": d["dashboard"], "meta": {"provisioned": True}})
                return self._send(404, {"message": "Dashboard not found"})
        return self._send(404, {"message": "Not found"})

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        sys.stderr.write("logger=imitation %s\n" % (fmt % args))


def main():
    # PID 1 in the container: without a handler SIGTERM would be ignored until docker's SIGKILL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    os.makedirs(DATA, exist_ok=True)
    ensure_admin()
    port = int(os.environ.get("GF_SERVER_HTTP_PORT", "3000"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    sys.stderr.write("logger=imitation msg=\"HTTP Server Listen\" address=[::]:%d version=%s\n" % (port, VERSION))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
