"""Test doubles for the real-data sources: a loopback HTTP server and archives in each real layout.

ArchiveServer serves bytes from 127.0.0.1 on a random port, honours Range requests, and can be told
to answer an error status or to drop the connection part-way through a file. The builders make zip
archives at test time from tiny generated JPEGs, in the exact layouts of the Microsoft, Google and
Kaggle releases (broken files included), so no test needs the internet or real photos.
"""
import io
import socket
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image

# ---------------------------------------------------------------- the server

class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client hangs up mid-answer (the downloader does that on purpose)."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ArchiveServer:
    """A loopback HTTP file server with scripted failures; use as a context manager."""

    def __init__(self):
        self.files = {}
        self.script = {}  # path -> list of actions for the next requests: int status or ("drop", n)
        self.requests = []  # (path, Range header or None) for each request
        self.honour_range = True
        self.lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path):
        """The address of `path` on this server."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path.lstrip('/')}"

    def add(self, path, data):
        """Serve `data` at /path; return its URL."""
        self.files["/" + path.lstrip("/")] = bytes(data)
        return self.url(path)

    def then(self, path, *actions):
        """Queue what the next requests for `path` get: an HTTP status, ('drop', n_bytes) after the
        announced length, ('cut', n_bytes): no Content-Length, n bytes, then the connection closes, or
        ('endless',): no Content-Length and bytes without end, until the client goes away."""
        self.script.setdefault("/" + path.lstrip("/"), []).extend(actions)

    def ranges(self, path):
        """The Range header of each request made for `path` (None when absent)."""
        return [r for p, r in self.requests if p == "/" + path.lstrip("/")]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                with server.lock:
                    server.requests.append((self.path, self.headers.get("Range")))
                    queue = server.script.get(self.path, [])
                    action = queue.pop(0) if queue else None
                data = server.files.get(self.path)
                if isinstance(action, int):
                    return self._status(action)
                if data is None:
                    return self._status(404)
                if isinstance(action, tuple) and action[0] == "endless":  # a body that never ends
                    self.send_response(200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    try:
                        while True:
                            self.wfile.write(b"\0" * 65536)
                    except OSError:  # the client stopped reading
                        return
                if isinstance(action, tuple) and action[0] == "cut":  # a body ended by closing, cut short
                    self.send_response(200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data[:action[1]])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                start = 0
                header = self.headers.get("Range")
                if header and server.honour_range:
                    start = int(header.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                body = data[start:]
                if isinstance(action, tuple) and action[0] == "drop":
                    self.wfile.write(body[:action[1]])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def _status(self, code):
                body = f"status {code}".encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def closed_port_url(name="archive.zip"):
    """An address on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


# ---------------------------------------------------------------- images and archives

def photo(cls, index, size=(20, 16)):
    """A tiny JPEG, different for every (class, index): its bytes identify it in a split."""
    rng = np.random.default_rng([0 if cls == "cat" else 1, index])
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=80)
    return out.getvalue()


def png_bytes():
    """A valid PNG image (to be named .jpg: not a JPEG)."""
    out = io.BytesIO()
    Image.new("RGB", (12, 12), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def truncated_jpeg(cls, index):
    """A JPEG cut off half-way: Pillow opens it but cannot decode it."""
    data = photo(cls, index, size=(64, 64))
    return data[: len(data) // 2]


def zip_bytes(entries, compression=zipfile.ZIP_STORED):
    """A zip archive holding `entries` ({name: bytes}, in order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


# Broken files inside the first indices, as in the real Microsoft archive (Cat/666.jpg is empty there).
MICROSOFT_BROKEN = {("cat", 3): "empty", ("cat", 5): "truncated", ("cat", 8): "png", ("dog", 4): "text"}


def microsoft_archive(per_class, broken=MICROSOFT_BROKEN):
    """(zip bytes, valid indices per class) in the layout of kagglecatsanddogs_5340.zip."""
    entries = {"CDLA-Permissive-2.0.pdf": b"%PDF-1.4 license text", "readme[1].txt": b"Cats and dogs\n"}
    valid = {"cat": [], "dog": []}
    for cls, folder in (("cat", "Cat"), ("dog", "Dog")):
        for i in range(per_class):
            kind = broken.get((cls, i))
            data = {"empty": b"", "truncated": truncated_jpeg(cls, i), "png": png_bytes(),
                    "text": b"<html>not an image</html>", None: photo(cls, i)}[kind]
            entries[f"PetImages/{folder}/{i}.jpg"] = data
            if kind is None:
                valid[cls].append(i)
            if i == 2:
                entries[f"PetImages/{folder}/Thumbs.db"] = b"\xd0\xcf\x11\xe0 thumbnail cache"
    return zip_bytes(entries), valid


def google_archive(train, validation, first_validation=2000):
    """(zip bytes, {pool: {cls: indices}}) in the layout of cats_and_dogs_filtered.zip."""
    entries, pools = {}, {"train": {}, "validation": {}}
    for pool, n, start in (("train", train, 0), ("validation", validation, first_validation)):
        for cls in ("cat", "dog"):
            pools[pool][cls] = list(range(start, start + n))
            for i in pools[pool][cls]:
                entries[f"cats_and_dogs_filtered/{pool}/{cls}s/{cls}.{i}.jpg"] = photo(cls, i)
    entries["__MACOSX/cats_and_dogs_filtered/._train"] = b"\x00\x05\x16\x07 resource fork"
    return zip_bytes(entries), pools


def kaggle_train_archive(per_class, start=0):
    """(zip bytes, valid indices per class) in the layout of Kaggle's train.zip."""
    entries = {}
    for i in range(start, start + per_class):  # Kaggle's order interleaves the classes
        for cls in ("cat", "dog"):
            entries[f"train/{cls}.{i}.jpg"] = photo(cls, i)
    return zip_bytes(entries, zipfile.ZIP_DEFLATED), {c: list(range(start, start + per_class)) for c in ("cat", "dog")}


def kaggle_competition_archive(train_zip):
    """The competition download dogs-vs-cats.zip: train.zip, test1.zip and sampleSubmission.csv inside."""
    test1 = zip_bytes({f"test1/{i}.jpg": photo("cat", 10_000 + i) for i in range(1, 4)})
    return zip_bytes({"sampleSubmission.csv": b"id,label\n1,0\n", "test1.zip": test1, "train.zip": train_zip},
                     zipfile.ZIP_DEFLATED)


# ---------------------------------------------------------------- damaged archives

def entry_data_offset(blob, name):
    """Where an entry's (compressed) bytes start inside a zip archive's bytes."""
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        info = zf.getinfo(name)
    header = blob[info.header_offset:info.header_offset + 30]
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len


def flip_byte(blob, name, at=40):
    """The archive with one byte of an entry's data changed (a bad CRC-32, or broken compressed data)."""
    k = entry_data_offset(blob, name) + at
    return blob[:k] + bytes([blob[k] ^ 0xFF]) + blob[k + 1:]


def claim_size(blob, name, size):
    """The archive with an entry whose headers claim `size` uncompressed bytes (the data is unchanged)."""
    out = bytearray(blob)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        info = zf.getinfo(name)
    out[info.header_offset + 22:info.header_offset + 26] = size.to_bytes(4, "little")  # local header
    end = blob.rfind(b"PK\x05\x06")
    k = int.from_bytes(blob[end + 16:end + 20], "little")  # the central directory's first entry
    while blob[k:k + 4] == b"PK\x01\x02":
        name_len, extra, comment = (int.from_bytes(blob[k + o:k + o + 2], "little") for o in (28, 30, 32))
        if blob[k + 46:k + 46 + name_len].decode() == name:
            out[k + 24:k + 28] = size.to_bytes(4, "little")
            return bytes(out)
        k += 46 + name_len + extra + comment
    raise KeyError(name)
