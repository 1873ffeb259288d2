"""Work that must not freeze the window, run in `QObject`s moved to a `QThread`.

Rules these follow: stop and pause go through `threading.Event`s the work polls, never through
queued slots (a queued slot never runs while the worker loops without an event loop); signals
carry plain numbers, dicts of them, or objects the worker has finished with (a frozen copy of
the run, a loaded data set), because `Signal(object)` hands over the same Python object, not a
copy; the owner calls `thread.quit()` and waits for the thread directly (a quit queued through
`finished` never runs while the GUI blocks in `wait()`, and Qt would then abort with "QThread:
Destroyed while thread is still running").
"""
from __future__ import annotations

import threading
import time
import traceback
from typing import Callable, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.errors import Cancelled, VaeStudioError, plain_message

PROGRESS_INTERVAL_S = 0.05


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(message for a person, traceback text or '' when the message says it all)."""
    if isinstance(exc, VaeStudioError):
        return str(exc), ""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return plain_message(exc), tb


class ThreadedWorker(QObject):
    """A worker whose `run` (a plain method) executes in a fresh thread after `start()`.

    The thread calls the slot `_run_in_thread`, which subclasses never override: PySide6 6.12
    runs an overridden `@Slot` in the GUI thread instead of the receiver's thread.
    """

    done = Signal()  # emitted last, whatever happened

    def __init__(self):
        super().__init__()
        self.thread_: Optional[QThread] = None

    def start(self) -> None:
        thread = QThread()
        thread.setObjectName(type(self).__name__)
        self.moveToThread(thread)
        thread.started.connect(self._run_in_thread)
        self.thread_ = thread
        thread.start()

    @Slot()
    def _run_in_thread(self) -> None:
        self.run()

    def run(self) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError

    def request_stop(self) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError

    def stop_and_wait(self, timeout_ms: int = -1) -> bool:
        """Ask the work to stop and block until its thread has ended (call from the GUI)."""
        self.request_stop()
        return self.join(timeout_ms)

    def join(self, timeout_ms: int = -1) -> bool:
        thread = self.thread_
        if thread is None:
            return True
        thread.quit()  # directly: a quit queued from `done` never runs while we block here
        ok = thread.wait() if timeout_ms < 0 else thread.wait(timeout_ms)
        return bool(ok)

    def _finish(self) -> None:
        """Called at the end of `run` in the worker thread: let the thread's loop end."""
        self.done.emit()
        if self.thread_ is not None:
            self.thread_.quit()


class TaskWorker(ThreadedWorker):
    """Runs `fn(progress, cancel)` once, e.g. opening a data set, and reports how it went.

    `fn` receives progress(done, total, message) and cancel() -> bool, the core's protocol.
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object, str, str)  # the exception, its message, traceback ('' for a VaeStudioError)
    cancelled = Signal()

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def request_stop(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()  # at most 20 reports a second: each one costs the GUI a repaint
        if now - self._last_progress >= PROGRESS_INTERVAL_S or (total and done >= total):
            self._last_progress = now
            self.progress.emit(int(done), int(total), str(message))

    def run(self) -> None:
        try:
            result = self.fn(self._progress, self._cancel.is_set)
        except Cancelled:
            self.cancelled.emit()
        except BaseException as e:  # noqa: BLE001 - every failure becomes a dialog
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.failed.emit(e, *describe_exception(e))
        else:
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        finally:
            self._finish()


def torch_threads_now() -> int:
    import torch
    return torch.get_num_threads()


class TrainWorker(ThreadedWorker):
    """Advances a `Run` with the core `Trainer`, in its own thread.

    The GUI hands over the run and does not touch it until `done`. After every epoch, and when
    training stops, the worker writes the autosave (when a path is given); after every epoch it
    emits a frozen copy of the run (`Run.snapshot()`) for the views and for File > Save.
    """

    device_ready = Signal(str)  # the device description, once the trainer is set up
    preparing = Signal(int, int, str)  # done, total, what: a kind's one-off work before the first step
    step = Signal(object)  # dict: epoch, epochs, step, steps_per_epoch, x, terms, extras, samples_per_s
    epoch_done = Signal(object, object)  # history record (dict), Run snapshot
    finished = Signal(object)  # dict: status, epochs_done, message, samples_per_s
    failed = Signal(str, str)

    def __init__(self, run, dataset, *, autosave_path=None, cuda_graph: bool = False):
        super().__init__()
        self.run_ = run
        self.dataset = dataset
        self.autosave_path = autosave_path
        self.cuda_graph = cuda_graph
        self.trainer = None
        self.result: Optional[dict] = None
        self._lock = threading.Lock()
        self._paused = False
        self._cancelled = False
        self.thread_nice: Optional[int] = None  # the training thread's nice value (Linux), once it runs
        self.torch_threads = 0  # torch's thread count in the training thread, once it runs
        self._writer = None  # the per-epoch autosave's background writer, made at the first epoch

    # -- control from the GUI thread ----------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self.trainer is not None:
                self.trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self.trainer is not None:
                self.trainer.resume()

    def request_stop(self) -> None:
        with self._lock:
            self._cancelled = True
            if self.trainer is not None:
                self.trainer.cancel()

    # -- the worker thread --------------------------------------------------------------
    def _autosave(self) -> None:
        if self.autosave_path is not None:
            from ..core.checkpoint import write_run
            write_run(self.autosave_path, self.run_)  # not run.save: the run keeps its own path

    def _autosave_in_background(self) -> None:
        """The per-epoch autosave, written by a thread of its own (its fsync costs about an
        epoch of a small model); still atomic, the latest epoch wins, and a failed write is
        raised at the next epoch or at the end, where the final autosave is written in line."""
        if self.autosave_path is None:
            return
        from ..core.checkpoint import CheckpointWriter
        if self._writer is None:
            self._writer = CheckpointWriter()
        own = self.run_.path
        self._writer.submit(self.autosave_path, self.run_)
        self.run_.path = own  # the autosave is not the run's own file

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()  # waits for the last epoch's write; raises its failure

    def _on_event(self, ev) -> None:
        if ev.kind == "step":
            self.step.emit({"epoch": ev.epoch, "epochs": ev.epochs, "step": ev.step,
                            "steps_per_epoch": ev.steps_per_epoch, "x": ev.x, "terms": dict(ev.terms),
                            "extras": dict(ev.extras), "samples_per_s": ev.samples_per_s})
            return
        self._autosave_in_background()
        self.epoch_done.emit(dict(ev.record), self.run_.snapshot())

    def _use_cuda_graph(self, trainer) -> str:
        """Turn the CUDA graph on where it was asked for and can be; what the status bar adds."""
        if not self.cuda_graph:
            return ""
        from ..core.cuda_graph import why_not

        problem = why_not(self.run_.kind, trainer.device, trainer.precision.name, False)
        if problem:
            return f" · no CUDA graph: it {problem}"
        trainer.use_cuda_graph = True
        return " · CUDA graph"

    def run(self) -> None:
        try:
            from ..core.device import describe_device
            from ..core.training import Trainer
            from .torch_setup import enter_training_thread

            self.thread_nice = enter_training_thread()  # before torch makes its helper threads here
            self.torch_threads = torch_threads_now()

            trainer = Trainer(self.run_, self.dataset, [self._on_event])
            trainer.prepare_progress = self.preparing.emit
            trainer.adapt_threads = True  # one thread while the window's drawing holds a core, if that is faster
            with self._lock:
                self.trainer = trainer
                if self._paused:
                    trainer.pause()
                if self._cancelled:
                    trainer.cancel()
            self.device_ready.emit(describe_device(trainer.device) + self._use_cuda_graph(trainer))
            res = trainer.train()
            self.run_.model.to("cpu")  # the GUI explores and saves on the CPU
            self._close_writer()
            self._autosave()  # exactly where it stopped, mid-epoch included
            self.result = {"status": res.status, "epochs_done": res.epochs_done, "message": res.message,
                           "samples_per_s": float(res.samples_per_s)}
            self.finished.emit(self.result)
        except BaseException as e:  # noqa: BLE001 - shown as a dialog; the window lives on
            self.failed.emit(*describe_exception(e))
        finally:
            try:
                try:
                    self._close_writer()  # after a failure: stop its thread (its error is secondary)
                except Exception:  # noqa: BLE001
                    pass
                from .torch_setup import leave_training_thread
                leave_training_thread()  # before `done`: a next training may start right after it
            finally:
                self._finish()
