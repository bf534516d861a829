"""Past one machine, on loopback: two `python -m demo` replicas behind nginx (deploy/nginx.conf, as docs/scaling.md
describes it) with sticky sessions and one runs folder. A run saved through one replica is listed through the
other; the training slot is each replica's own."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from benchmarks.app_server import App
from demo.runs import new_owner_key
from page_events import Page

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def replicas(monkeypatch_module):
    """Two replicas sharing one runs folder, and nginx in front of them: (nginx's url, [replica urls])."""
    if not Path(NGINX).exists():
        if os.environ.get("CVAE_REQUIRE_BROWSER"):  # .ci/run installs nginx with chromium: it must be there
            pytest.fail("nginx is not installed (apt-get install nginx)")
        pytest.skip("nginx is not installed")
    prefix = Path(tempfile.mkdtemp(prefix="cvae-nginx-"))
    os.chmod(prefix, 0o755)  # nginx's workers (another user, when started as root) keep uploads' bodies under it
    monkeypatch_module.setenv("CVAE_RUNS", str(prefix / "runs"))
    monkeypatch_module.setenv("CVAE_TRUSTED_PROXIES", "127.0.0.1")
    apps = [App(timeout_s=180), App(timeout_s=180)]
    port = free_port()
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for word, value in {"@PREFIX@": str(prefix), "@LISTEN@": f"127.0.0.1:{port}",
                        "@REPLICA_1@": f"127.0.0.1:{apps[0].port}", "@REPLICA_2@": f"127.0.0.1:{apps[1].port}"}.items():
        conf = conf.replace(word, value)
    (prefix / "nginx.conf").write_text(conf)
    nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                             stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, apps
    finally:
        nginx.terminate()
        nginx.wait(10)
        for app in apps:
            app.stop()
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def replica_cookies(url, apps):
    """One cookie value that nginx sends to each replica, in the replicas' order (found by asking)."""
    found = {}
    for i in range(200):
        answer = httpx.get(f"{url}/config", headers={"Cookie": f"cvae_replica=visitor-{i}"}, timeout=30)
        found.setdefault(answer.headers["x-replica"], f"visitor-{i}")
        if len(found) == len(apps):
            break
    return [found[f"127.0.0.1:{app.port}"] for app in apps]


def test_a_new_browser_gets_a_sticky_cookie_and_keeps_its_replica(replicas):
    url, apps = replicas
    first = httpx.get(url, timeout=30)
    cookie = first.cookies.get("cvae_replica")
    assert cookie and "HttpOnly" in first.headers["set-cookie"], first.headers
    seen = {httpx.get(f"{url}/config", cookies={"cvae_replica": cookie}, timeout=30).headers["x-replica"]
            for _ in range(10)}
    assert seen == {first.headers["x-replica"]}, seen


def test_a_run_saved_through_one_replica_is_listed_through_the_other(replicas, generator, tmp_path):
    url, apps = replicas
    from demo.runs import zip_model
    model = zip_model(generator, tmp_path / "generator.zip")
    key = new_owner_key()
    one, other = (Page(url, key, headers={"Cookie": f"cvae_replica={c}"}) for c in replica_cookies(url, apps))
    assert one.upload([model])[0]
    success, output = one.call("save", "click", {"textbox": "shared"})
    assert success and "Saved as" in str(output), output
    success, output = other.call("runs-refresh", "click", {})
    assert success, output
    assert "shared/generator" in [value for _, value in output["data"][0]["choices"]]


def first_answer(job, timeout=120):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if job.outputs():
            answer = job.outputs()[0]  # the metrics (the session's state is not an output of the API)
            return answer[0] if isinstance(answer, (list, tuple)) else answer
        time.sleep(0.2)
    raise AssertionError("the training never answered")


def test_the_training_slot_is_each_replicas_own(replicas):
    url, apps = replicas
    on_one, on_other = replica_cookies(url, apps)
    clients = [Client(url, verbose=False, headers={"Cookie": f"cvae_replica={c}"}, download_files=False)
               for c in (on_one, on_one, on_other)]
    try:
        first = clients[0].submit("generator", "5 min", api_name="/train")
        assert first_answer(first)["status"] in ("starting", "running")
        behind = clients[1].submit("generator", "5 min", api_name="/train")
        waiting = first_answer(behind)
        assert (waiting["status"], waiting["place"]) == ("waiting", 1), waiting
        beside = clients[2].submit("generator", "5 min", api_name="/train")
        assert first_answer(beside)["status"] in ("starting", "running"), "the other replica's slot was free"
        for job in (first, behind, beside):
            job.cancel()
    finally:
        for client in clients:
            client.close()
