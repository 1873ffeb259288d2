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
        answer = dialogs.ask_save_changes(self, what, self.session.unsaved)
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
        """Open a run: the model, its settings, history and data set. False if it failed or the
        user kept the current model."""
        from ..core.run import Run

        if self.session.training:
            dialogs.show_error(self, "Cannot open a model", "Stop training before opening another model.")
            return False
        if not self._confirm_discard("opening another model"):
            return False
        try:
            run = Run.load(path).require_finite()
        except VaeStudioError as e:
            if not from_autosave:
                self.settings.remove_recent_model(path)
            dialogs.show_error(self, "Cannot open the model", e)
            return False
        opened_from = run.path
        if from_autosave:
            run.path = None  # an autosave is not the user's file: Save asks where to put it
        self.session.set_run(run, dirty=from_autosave)
        if not from_autosave:
            self.settings.add_recent_model(opened_from)
            self.settings.set_last_folder("models", Path(opened_from).parent)
        self.training_dock.reset_progress(f"Opened: {run.epochs_done:g} of {run.target_epochs} "
                                          f"epoch{'' if run.target_epochs == 1 else 's'} trained")
        spec = run.dataset_spec
        if spec is not None and (self.session.dataset is None or self.session.dataset.spec != spec):
            self.open_dataset(spec)
        self.statusBar().showMessage(f"Opened {opened_from}", 4000)
        return True

    def save_model(self) -> bool:
        if self.session.path is None:
            return self.save_model_as()
        return self.save_model_to(self.session.path)

    def save_model_as(self) -> bool:
        if self.session.run is None:
            dialogs.show_error(self, "Nothing to save", "There is no model yet: train or open one first.")
            return False
        folder = self.settings.last_folder("models") or str(Path.home())
        name = self.session.path.name if self.session.path else "model.pt"
        path = dialogs.choose_save_model(self, str(Path(folder) / name))
        return bool(path) and self.save_model_to(path)

    def save_model_to(self, path) -> bool:
        """Write the run (while training: as it was at the end of the last finished epoch)."""
        s = self.session
        run = s.saved_state if s.training else s.run
        if run is None:
            msg = ("Training has not finished an epoch yet; save after the first one."
                   if s.training else "There is no model yet: train or open one first.")
            dialogs.show_error(self, "Nothing to save", msg)
            return False
        try:
            written = run.save(path)
        except (OSError, VaeStudioError) as e:
            dialogs.show_error(self, "Cannot save the model", e)
            return False
        s.run.path = written
        s.mark_saved()
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
