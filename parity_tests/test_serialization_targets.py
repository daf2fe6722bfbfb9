"""Where a checkpoint lands: every saver (``scratch.save``, ``save_pt``, ``save_safetensors``) writes through
``atomic_write``, which must never rename over a device, a FIFO or a symlink, must keep a file's mode, and must
name the path in every OS error. The device nodes are made here (as root: mknod needs it)."""

import errno
import os
import stat

import numpy as np
import pytest

import scratch
from scratch import nn
from torch_ref import load_pt, load_safetensors, save_pt, save_safetensors

ROOT = os.geteuid() == 0
NULL, FULL = os.makedev(1, 3), os.makedev(1, 7)  # Linux's /dev/null and /dev/full


def _model() -> nn.Linear:
    return nn.Linear(3, 2, rng=np.random.default_rng(0))


SAVERS = {
    "scratch.save": (lambda path: scratch.save(_model().state_dict(), path), scratch.load),
    "save_pt": (lambda path: save_pt(_model(), path), load_pt),
    "save_safetensors": (lambda path: save_safetensors(_model(), path), load_safetensors),
}
needs_root = pytest.mark.skipif(not ROOT, reason="mknod of a character device needs root")


@pytest.fixture(params=sorted(SAVERS))
def saver(request):
    return SAVERS[request.param]


def _assert_saved(path, load) -> None:
    loaded = load(path)
    np.testing.assert_array_equal(loaded["weight"], _model().weight.data)


@needs_root
def test_a_device_node_is_written_through_and_kept(saver, tmp_path):
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, NULL)
    saver[0](node)
    assert stat.S_ISCHR(os.stat(node).st_mode) and os.stat(node).st_rdev == NULL
    assert os.listdir(tmp_path) == ["null"]


@needs_root
def test_a_full_disk_names_the_path(saver, tmp_path):
    node = tmp_path / "full"
    os.mknod(node, 0o666 | stat.S_IFCHR, FULL)
    with pytest.raises(OSError, match=f"{node}") as raised:
        saver[0](node)
    assert "inline_container" not in str(raised.value).split("torch.save failed")[0]
    assert stat.S_ISCHR(os.stat(node).st_mode)


def test_a_fifo_is_refused_and_kept(saver, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=f"cannot save to '{fifo}': it is a FIFO, not a regular file or a device"):
        saver[0](fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]


def test_a_symlink_is_kept_and_its_target_replaced(saver, tmp_path):
    target, link = tmp_path / "real.ckpt", tmp_path / "link.ckpt"
    target.write_bytes(b"old")
    link.symlink_to(target)
    saver[0](link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    _assert_saved(target, saver[1])
    assert sorted(os.listdir(tmp_path)) == ["link.ckpt", "real.ckpt"]


def test_a_private_checkpoint_stays_private(saver, tmp_path):
    path = tmp_path / "secret.ckpt"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    saver[0](path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    _assert_saved(path, saver[1])


def test_a_directory_is_refused_naming_it(saver, tmp_path):
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        saver[0](tmp_path)


def test_a_failed_write_names_the_path_and_keeps_the_old_file(saver, tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    path.write_bytes(b"old")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match=f"No space left on device: '{path}'"):
        saver[0](path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["ckpt"]


def test_a_folder_without_room_for_the_temporary_file_says_why(saver, tmp_path, monkeypatch):
    def refused(**_):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("tempfile.mkstemp", refused)
    with pytest.raises(PermissionError, match=r"cannot create a temporary file in .*: Permission denied \(a save "
                                              r"writes one beside the target, then renames it over the target\)"):
        saver[0](tmp_path / "ckpt")
