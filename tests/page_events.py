"""One visitor's page of a served app, over raw HTTP: the page's own events joined as the page joins them
(queue/join with their fn_index, found by the component that triggers them)."""
import json
import uuid

import httpx


class Page:
    """One visitor's session of the served app, calling the page's events as the page does."""

    def __init__(self, url, key=None, source=None, headers=None):
        """`source`: the loopback address this visitor's requests come from (127.0.0.2 ...; default the system's);
        `headers`: sent with every request (a cookie, say)."""
        self.url, self.session, self.key = url.rstrip("/"), uuid.uuid4().hex, key
        self.source, self.headers = source, headers or {}
        with self.http(30) as http:
            self.config = http.get(f"{self.url}/config").json()
        self.types = {c["id"]: c["type"] for c in self.config["components"]}
        self.elem_ids = {c["id"]: c.get("props", {}).get("elem_id") for c in self.config["components"]}

    def event(self, elem_id, trigger):
        """The page's dependency that `trigger` ("click", "upload") of the component `elem_id` starts."""
        for i, d in enumerate(self.config["dependencies"]):
            if any(self.elem_ids.get(target) == elem_id and event == trigger for target, event in d["targets"]):
                return d.get("id", i), d
        raise LookupError(f"no {trigger} event on #{elem_id}")

    def sends_key(self, elem_id, trigger):
        return any(self.types[i] == "browserstate" for i in self.event(elem_id, trigger)[1]["inputs"])

    def call(self, elem_id, trigger, by_type, timeout=120):
        """Join the event with inputs given by component type (a gr.State is the server's: None), and wait for its
        end: (success, output)."""
        fn_index, dep = self.event(elem_id, trigger)
        values = {"state": None, "browserstate": self.key, **by_type}
        data = [values[self.types[i]] for i in dep["inputs"]]
        with self.http(timeout) as http:
            joined = http.post(f"{self.url}/gradio_api/queue/join", json={
                "data": data, "fn_index": fn_index, "session_hash": self.session, "event_data": None,
                "trigger_id": dep["targets"][0][0]})
            assert joined.status_code == 200, joined.text
            event_id = joined.json()["event_id"]
            with http.stream("GET", f"{self.url}/gradio_api/queue/data",
                             params={"session_hash": self.session}) as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    msg = json.loads(line[5:])
                    if msg.get("event_id") == event_id and msg.get("msg") == "process_completed":
                        return msg.get("success"), msg.get("output") or {}
        raise AssertionError("the event never completed")

    def http(self, timeout):
        transport = httpx.HTTPTransport(local_address=self.source) if self.source else None
        return httpx.Client(timeout=timeout, transport=transport, headers=self.headers)

    def upload(self, paths):
        with self.http(60) as http:
            files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
            stored = http.post(f"{self.url}/gradio_api/upload", files=files)
        assert stored.status_code == 200, stored.text
        values = [{"path": path, "orig_name": p.name, "meta": {"_type": "gradio.FileData"}}
                  for path, p in zip(stored.json(), paths)]
        return self.call("upload-model", "upload", {"file": values})
