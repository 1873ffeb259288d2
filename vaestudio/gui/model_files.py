"""Opening and saving models, the Recent menu and the autosave restore: the window's file
handling, kept apart from its layout and wiring (`MainWindow` mixes this in).

It relies on the window's `session`, `settings`, `controller`, `training_dock`, `recent_menu`,
`open_dataset` and status bar. Questions and file choosers go through `dialogs`, so tests can
answer them.
"""
from __future__ import annotations

from pathlib import Path

from ..core.errors import VaeStudioError
from . import autosave, dialogs


class ModelFilesMixin:
    def _confirm_discard(self, what: str) -> bool:
        """True when the current model may be replaced: saved, or the user agreed."""
        if not self.session.dirty:
            return True
        answer = dialogs.ask_save_changes(self, what)
        if answer == "cancel":
            return False
        if answer == "save":
            if self.session.training:
                self.controller.shutdown()
            return self.save_model()
        return True

    def open_model_dialog(self) -> None:
        folder = self.settings.last_folder("models") or ""
        path = dialogs.choose_open_model(self, folder)
        if path:
            self.open_model(path)

    def open_model(self, path, *, from_autosave: bool = False) -> bool:
        """Open a checkpoint: the model, its settings and its data set. False if it failed or
        the user kept the current model."""
        from ..core.checkpoint import load_checkpoint

        if self.session.training:
            dialogs.show_error(self, "Cannot open a model", "Stop training before opening another model.")
            return False
        if not self._confirm_discard("opening another model"):
            return False
        try:
            ckpt = load_checkpoint(path)
        except VaeStudioError as e:
            if not from_autosave:
                self.settings.remove_recent_model(path)
            dialogs.show_error(self, "Cannot open the model", e)
            return False
        form = self.training_dock.form
        form.set_model_locked(False)
        form.set_model_config(ckpt.model_config)
        if ckpt.train_config is not None:
            form.set_train_config(ckpt.train_config)
        form.set_model_locked(True)
        self._new_model_pending = False
        self.session.set_model(
            ckpt.model, train_config=ckpt.train_config, history=ckpt.history, epoch=ckpt.epoch,
            optimizer_state=ckpt.optimizer_state, path=None if from_autosave else ckpt.path,
            dirty=from_autosave, snapshot=ckpt.model.cpu_copy())
        if not from_autosave:
            self.settings.add_recent_model(ckpt.path)
            self.settings.set_last_folder("models", Path(ckpt.path).parent)
        self.training_dock.reset_progress(f"Opened: {ckpt.epoch} epochs trained")
        spec = ckpt.dataset_spec
        if spec is not None and (self.session.dataset is None or self.session.dataset.spec != spec):
            self.open_dataset(spec)
        self.statusBar().showMessage(f"Opened {ckpt.path}", 4000)
        return True

    def save_model(self) -> bool:
        if self.session.path is None:
            return self.save_model_as()
        return self.save_model_to(self.session.path)

    def save_model_as(self) -> bool:
        if self.session.model is None:
            dialogs.show_error(self, "Nothing to save", "There is no model yet: train or open one first.")
            return False
        folder = self.settings.last_folder("models") or str(Path.home())
        name = self.session.path.name if self.session.path else "model.pt"
        path = dialogs.choose_save_model(self, str(Path(folder) / name))
        return bool(path) and self.save_model_to(path)

    def save_model_to(self, path) -> bool:
        """Write the model (while training: the snapshot of the last finished epoch)."""
        from ..core.checkpoint import save_checkpoint

        s = self.session
        model = s.snapshot if s.training else s.model
        if model is None:
            msg = ("Training has not finished an epoch yet; save after the first one."
                   if s.training else "There is no model yet: train or open one first.")
            dialogs.show_error(self, "Nothing to save", msg)
            return False
        try:
            written = save_checkpoint(
                path, model, train_config=s.train_config,
                dataset_spec=s.dataset.spec if s.dataset is not None else None,
                optimizer_state=None if s.training else s.optimizer_state,
                history=s.history, epoch=s.epoch)
        except (OSError, VaeStudioError) as e:
            dialogs.show_error(self, "Cannot save the model", e)
            return False
        s.mark_saved(written)
        self.settings.add_recent_model(written)
        self.settings.set_last_folder("models", written.parent)
        if not s.training:
            autosave.discard(autosave.own_autosave_path())
        self.statusBar().showMessage(f"Saved {written}", 4000)
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_models()
        for i, path in enumerate(recent, start=1):
            act = self.recent_menu.addAction(f"&{i} {Path(path).name}")
            act.setStatusTip(path)
            act.setToolTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_model(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu", self.settings.clear_recent_models)
        else:
            self.recent_menu.addAction("No recent models").setEnabled(False)

    def offer_autosave_restore(self) -> bool:
        """Offer the newest autosave a crashed session left; True if it was restored."""
        orphans = autosave.orphaned_autosaves()
        if not orphans:
            return False
        restore = dialogs.ask_yes_no(
            self, "Restore autosaved model?",
            "VAE Studio did not close properly last time. Restore the model it autosaved "
            "after its last finished epoch?")
        for older in orphans[1:]:
            autosave.discard(older)
        if restore:
            return self.restore_autosave(orphans[0])
        autosave.discard(orphans[0])
        return False

    def restore_autosave(self, path) -> bool:
        """Open an autosave as an unsaved model and make it this session's autosave."""
        if not self.open_model(path, from_autosave=True):
            return False
        autosave.adopt(Path(path))
        return True
