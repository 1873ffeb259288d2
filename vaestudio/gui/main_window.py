"""The VAE Studio main window: menus, docks, status bar, and the wiring between them, the
session, the training controller and the data set loader.

The central area is a tab widget reserved for the latent-space tools, which the
`vaestudio.gui.explore` package installs (see `install_explore`). Nothing here imports torch
at module level: the window appears first, torch loads in `start_up` right after.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QTabBar, QTabWidget

from .. import __version__
from ..core.data.base import DatasetSpec
from ..core.errors import VaeStudioError
from . import autosave, dataset_menu, dialogs
from .dataset_loader import DatasetLoader
from .model_files import ModelFilesMixin
from .session import Session
from .settings import APPLICATION, AppSettings
from .torch_setup import prepare_torch
from .training_controller import TrainingController
from .training_dock import LossDock, TrainingDock
from .workers import TaskWorker

DEFAULT_DATASET = "digits"


def _shape(shape) -> str:
    c, h, w = shape
    return f"{w}×{h} {'grey' if c == 1 else 'colour'}"
PLACEHOLDER_TEXT = "Train or open a model to see its latent space"


def _action(parent, text: str, slot, shortcut=None, name: str = "", tip: str = "") -> QAction:
    act = QAction(text, parent)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if name:
        act.setObjectName(name)
    if tip:
        act.setStatusTip(tip)
    act.triggered.connect(slot)
    return act


class MainWindow(ModelFilesMixin, QMainWindow):
    def __init__(self, settings: Optional[AppSettings] = None, *, autosave_enabled: bool = True):
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or AppSettings()
        self.compare_window = None  # View > Compare Runs, made when first asked for
        self.session = Session(self)
        self.last_error: Optional[str] = None
        self._closing = False
        self._load_default = True
        self._torch_worker: Optional[TaskWorker] = None
        # Extra options for data sets chosen from the menu, by name (tests and the screenshot
        # verb open small built-ins: {"digits": {"n_train": 1000, "n_test": 100}}).
        self.dataset_options: dict[str, dict] = {}
        self.setDockNestingEnabled(True)

        self.central_tabs = QTabWidget()
        self.central_tabs.setObjectName("centralTabs")
        self.central_tabs.setDocumentMode(True)
        self.latent_placeholder = QLabel(PLACEHOLDER_TEXT)
        self.latent_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.latent_placeholder.setStyleSheet("color: palette(mid); font-size: 15px;")
        self.central_tabs.addTab(self.latent_placeholder, "Latent space")
        self.setCentralWidget(self.central_tabs)

        self.controller = TrainingController(self.session, self, autosave_enabled=autosave_enabled)
        self.loader = DatasetLoader(self)
        self._make_actions()
        self.training_dock = TrainingDock(self.start_action, self.pause_action, self.stop_action, self)
        self.loss_dock = LossDock(self)
        self.loss_plot = self.loss_dock.plot
        self._make_menus()
        self.add_dock(self.training_dock, Qt.DockWidgetArea.LeftDockWidgetArea)
        # the settings take the full height on the left, so the whole form fits at 1280x800
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.add_dock(self.loss_dock, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._make_status_bar()
        self._connect()
        self._on_state(self.session.state)
        self._update_title()
        self.resize(1280, 800)
        self.resizeDocks([self.training_dock], [350], Qt.Orientation.Horizontal)
        self.resizeDocks([self.loss_dock], [230], Qt.Orientation.Vertical)
        self.install_explore()
        self._default_layout = self.saveState()  # View > Reset Layout goes back to this
        self.settings.restore_window(self)
        self._update_plan()

    # ===================================================================== construction
    def _make_actions(self) -> None:
        self.open_model_action = _action(self, "&Open Model...", self.open_model_dialog, QKeySequence.StandardKey.Open,
                                         "openModelAction", "Open a saved model and its settings")
        self.save_model_action = _action(self, "&Save Model", self.save_model, QKeySequence.StandardKey.Save,
                                         "saveModelAction")
        self.save_as_action = _action(self, "Save Model &As...", self.save_model_as, QKeySequence.StandardKey.SaveAs,
                                      "saveModelAsAction")
        self.quit_action = _action(self, "&Quit", self.close, QKeySequence.StandardKey.Quit, "quitAction")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        if self.quit_action.shortcut().isEmpty():  # the platform theme defines none (Windows, offscreen)
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.start_action = _action(self, "&Start", self.start_training, "Ctrl+R", "startAction",
                                    "Train the model for the chosen number of epochs")
        self.pause_action = _action(self, "&Pause", self.toggle_pause, "Ctrl+P", "pauseAction",
                                    "Pause or resume training after the current batch")
        self.stop_action = _action(self, "S&top", self.stop_training, "Ctrl+.", "stopAction",
                                   "Stop training after the current batch; the weights are kept")
        self.new_model_action = _action(self, "&New Model...", self.new_model, QKeySequence.StandardKey.New,
                                        "newModelAction", "Choose the settings of a new model")
        style = self.style()
        self.start_action.setIcon(style.standardIcon(style.StandardPixmap.SP_MediaPlay))
        self.pause_action.setIcon(style.standardIcon(style.StandardPixmap.SP_MediaPause))
        self.stop_action.setIcon(style.standardIcon(style.StandardPixmap.SP_MediaStop))
        self.model_info_action = _action(self, "About This &Model", self.show_model_info, "Ctrl+I",
                                         "modelInfoAction", "What the current model is: kind, progress, data sets")
        self.reset_layout_action = _action(self, "&Reset Layout", self.reset_layout, "Ctrl+Shift+R",
                                           "resetLayoutAction", "Put every panel back where it was at first")
        self.compare_action = _action(self, "&Compare Runs...", self.show_compare, "Ctrl+Shift+C", "compareAction",
                                      "Two to four runs side by side: latent spaces, lattices, samples, metrics")
        self.guide_action = _action(self, "&User Guide", self.show_guide, QKeySequence.StandardKey.HelpContents,
                                    "guideAction", "What each part of the window does and how to read the numbers")
        if self.guide_action.shortcut().isEmpty():  # no platform help key: F1 everywhere
            self.guide_action.setShortcut(QKeySequence("F1"))
        self.getting_started_action = _action(self, "&Getting Started", self.show_getting_started, None,
                                              "gettingStartedAction", "A first tour: train, hover, mix, export")
        self.shortcuts_action = _action(self, "&Keyboard Shortcuts", self.show_shortcuts, None, "shortcutsAction",
                                        "Every keyboard shortcut of the window")
        self.about_action = _action(self, "&About VAE Studio", self.show_about, None, "aboutAction")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_qt_action = _action(self, "About &Qt", QApplication.aboutQt, None, "aboutQtAction")

    def _make_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.open_dataset_menu = self.file_menu.addMenu("Open &Dataset")
        self.open_dataset_menu.setObjectName("openDatasetMenu")
        self.dataset_actions = dataset_menu.build_dataset_menu(self.open_dataset_menu, self.open_dataset_by_name)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.open_model_action)
        self.file_menu.addAction(self.save_model_action)
        self.file_menu.addAction(self.save_as_action)
        self.recent_menu = self.file_menu.addMenu("&Recent Models")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)

        self.train_menu = bar.addMenu("&Train")
        for act in (self.start_action, self.pause_action, self.stop_action):
            self.train_menu.addAction(act)
        self.train_menu.addSeparator()
        self.train_menu.addAction(self.new_model_action)

        self.export_menu = bar.addMenu("&Export")
        self.export_menu.setObjectName("exportMenu")
        self._export_placeholder = self.export_menu.addAction("Nothing to export yet")
        self._export_placeholder.setEnabled(False)
        self.export_menu.aboutToShow.connect(self._tidy_export_menu)

        self.view_menu = bar.addMenu("&View")
        self.view_menu.setObjectName("viewMenu")
        self.view_menu.addAction(self.compare_action)
        self.view_menu.addAction(self.reset_layout_action)
        self.view_menu.addSeparator()

        self.help_menu = bar.addMenu("&Help")
        self.help_menu.setObjectName("helpMenu")
        for act in (self.guide_action, self.getting_started_action, self.shortcuts_action):
            self.help_menu.addAction(act)
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.model_info_action)
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.about_action)
        self.help_menu.addAction(self.about_qt_action)

    def _make_status_bar(self) -> None:
        status = self.statusBar()
        self.dataset_label = QLabel("No data set")
        self.device_label = QLabel("Device: -")
        self.speed_label = QLabel("")
        for w in (self.dataset_label, self.speed_label, self.device_label):
            w.setContentsMargins(6, 0, 6, 0)
            status.addPermanentWidget(w)

    def _connect(self) -> None:
        s, c, loader = self.session, self.controller, self.loader
        self.training_dock.form.train_settings_changed.connect(self._update_plan)
        wiring = (
            (s.dataset_changed, self._on_dataset), (s.run_changed, self._on_run), (s.epoch_added, self._on_epoch),
            (s.training_state_changed, self._on_state), (s.dirty_changed, self._on_dirty),
            (c.step, self._on_step), (c.device_changed, self._on_device), (c.preparing, self._on_preparing),
            (c.failed, self._on_training_failed), (c.finished, self._on_training_finished),
            (loader.loaded, self._on_dataset_loaded), (loader.failed, self._on_dataset_failed),
            (loader.not_found, self._on_dataset_not_found), (loader.cancelled, self._on_dataset_cancelled),
        )
        for signal, slot in wiring:
            signal.connect(slot)

    def add_dock(self, dock: QDockWidget, area: Qt.DockWidgetArea) -> None:
        """Add a dock and its show/hide toggle in the View menu (docks need an objectName so
        the layout can be saved)."""
        if not dock.objectName():
            dock.setObjectName(dock.windowTitle().replace(" ", "") + "Dock")
        self.addDockWidget(area, dock)
        self.view_menu.addAction(dock.toggleViewAction())

    def install_explore(self) -> None:
        """Let the latent-space tools add their tabs, docks and menu actions, when installed."""
        try:
            from vaestudio.gui.explore import install
        except ImportError as e:
            if e.name == "vaestudio.gui.explore":
                return
            raise
        install(self)

    # ===================================================================== startup
    def start_up(self, load_default: bool = True) -> None:
        """What follows the first paint: torch (in a worker, so the window stays live), then the
        presets for this machine, an autosave left by a crash, and the data set (the last one
        used, else the built-in digits)."""
        if self._torch_worker is not None:
            return
        self._load_default = load_default
        self._torch_worker = TaskWorker(lambda progress, cancel: prepare_torch())
        self._torch_worker.succeeded.connect(self._on_torch_ready)
        self._torch_worker.failed.connect(self._on_torch_failed)
        self._torch_worker.done.connect(self._on_torch_worker_done)
        self._torch_worker.start()

    @Slot(object)
    def _on_torch_ready(self, info: dict) -> None:
        from ..core.config import presets

        if info.get("cuda"):
            self.training_dock.form.set_presets(presets(have_gpu=True))
        if self.session.state == "idle":
            self.device_label.setText(f"Device: {info.get('device', '-')} (automatic)")
        if self.offer_autosave_restore():
            return
        if self._load_default and self.session.dataset is None:
            last = self.settings.last_dataset()
            self.open_dataset(DatasetSpec.from_dict(last) if last else DatasetSpec(DEFAULT_DATASET))

    @Slot(object, str, str)
    def _on_torch_failed(self, exc, message: str, details: str) -> None:
        dialogs.show_error(self, "PyTorch could not start", message, details)

    @Slot()
    def _on_torch_worker_done(self) -> None:
        if self._torch_worker is not None:
            self._torch_worker.join()
            self._torch_worker = None

    # ===================================================================== data sets
    def open_dataset_by_name(self, name: str) -> None:
        spec = dataset_menu.spec_for(self, self.settings, name)
        if spec is not None:
            spec.options.update(self.dataset_options.get(name, {}))
            self.open_dataset(spec)

    def open_dataset(self, spec: DatasetSpec, *, download: bool = False) -> None:
        """Open a data set in the background; the session changes when it has loaded."""
        self.statusBar().showMessage(f"Opening {dataset_menu.title_of(spec.name)}...")
        self.loader.load(spec, download=download)

    @Slot(object)
    def _on_dataset_loaded(self, dataset) -> None:
        run = self.session.run
        if run is not None and tuple(run.model_config.image_shape) != tuple(dataset.image_shape):
            # The model cannot take these images: say so now, not at Start.
            if not dialogs.ask_new_model_for_dataset(self, _shape(run.model_config.image_shape), dataset.name,
                                                     _shape(dataset.image_shape)):
                self.statusBar().showMessage(f"Kept {self.session.dataset.name if self.session.dataset else 'no data set'}: "
                                             f"{dataset.name} does not fit the model", 6000)
                return
            if not self._discard_model("making a new model for this data set"):
                return
        dataset_menu.remember(self.settings, dataset.spec)
        self.session.set_dataset(dataset)
        if dataset.warnings:  # e.g. unreadable files skipped: said without stopping anyone
            self.statusBar().showMessage(f"Opened {dataset.name}; " + " ".join(dataset.warnings), 30000)
        else:
            self.statusBar().showMessage(f"Opened {dataset.name}", 4000)

    @Slot(object, str, str)
    def _on_dataset_failed(self, spec, message: str, details: str) -> None:
        self.statusBar().clearMessage()
        dialogs.show_error(self, "Cannot open the data set", message, details)

    @Slot(object, object)
    def _on_dataset_not_found(self, spec, missing) -> None:
        """One question: where the files were looked for; Choose Folder, Download (only when the
        download site answers) or Cancel, which keeps the current data set."""
        self.statusBar().clearMessage()
        if dataset_menu.needs_pick(spec.name):
            dialogs.show_error(self, "Data set not found", missing.message)
            return
        title = dataset_menu.title_of(spec.name)
        answer = dialogs.ask_dataset_missing(self, title, missing.looked_in, missing.can_download,
                                             missing.needed, missing.why_not)
        if answer == "download":
            self.open_dataset(spec, download=True)
        elif answer == "choose":
            folder = dialogs.choose_folder(self, f"Folder holding {title}", spec.root or "")
            if folder:
                self.open_dataset(DatasetSpec(spec.name, folder, dict(spec.options)))

    @Slot(object)
    def _on_dataset_cancelled(self, spec) -> None:
        self.statusBar().showMessage("Cancelled", 3000)

    # ===================================================================== models
    def new_model(self) -> None:
        if self.session.training or not self._discard_model("starting a new model"):
            return
        self.training_dock.show()
        self.training_dock.raise_()
        self.training_dock.form.kind.setFocus()

    def _discard_model(self, what: str) -> bool:
        """Drop the current model (after asking to save unsaved training): every view clears and
        the settings unlock for the next one. False when the user kept it."""
        if not self._confirm_discard(what):
            return False
        self.session.set_run(None)
        from . import autosave
        autosave.discard(autosave.own_autosave_path())
        self.training_dock.reset_progress("Choose the settings of the new model, then Start.")
        self.statusBar().showMessage("No model: choose the settings of a new one, then Start")
        return True

    # ===================================================================== training
    def start_training(self) -> None:
        from ..core.kinds import kind_of
        from ..core.run import DatasetSwitchError, Run, describe_spec

        s = self.session
        if s.training:
            return
        form = self.training_dock.form
        try:
            if s.dataset is None:
                raise VaeStudioError("Open a data set first (File > Open Dataset).")
            tcfg = form.train_config()
            if s.run is None:
                prepare_torch()
                mcfg = form.model_config(s.dataset.image_shape)
                alternative = kind_of(mcfg).offline_alternative(mcfg)
                if alternative is not None:  # e.g. VGG19 weights that are not on disk
                    why, mcfg = alternative
                    if not dialogs.ask_yes_no(self, "Cannot train these settings here", f"{why}\n\nSwitch to it and start?"):
                        return
                    form.set_model_config(mcfg)
                run = Run.new(mcfg, tcfg)
                run.use_dataset(s.dataset)
                s.set_run(run)
            else:
                self._apply_train_settings(s.run, tcfg)
            self.controller.cuda_graph = form.cuda_graph_wanted()
            try:
                self.controller.start()
            except DatasetSwitchError:
                cur = s.run.dataset_spec
                if not dialogs.ask_yes_no(
                        self, "Continue on another data set?",
                        f"This model was trained on {describe_spec(cur)} "
                        f"({s.run.segments[-1].epochs:g} epochs). Continue training it on "
                        f"{describe_spec(s.dataset.spec)}?\n\nThe loss plots and the model's history "
                        f"mark where the data set changed."):
                    return
                self.controller.start(allow_dataset_switch=True)
        except VaeStudioError as e:
            dialogs.show_error(self, "Cannot start training", e)
            return
        form.set_model_locked(True)
        self.training_dock.reset_progress("Starting...")

    def _apply_train_settings(self, run, tcfg) -> None:
        """The form's training settings into the run: the target, the device, and a learning rate
        or batch size the user changed (recorded in the history from the next epoch on)."""
        import dataclasses

        if tcfg.batch_size != run.train_config.batch_size and run.progress.mid_epoch:
            raise VaeStudioError(
                f"The model stopped inside epoch {run.progress.epoch + 1} with batch size "
                f"{run.train_config.batch_size}; finish that epoch with it before changing the batch size.")
        run.set_target(tcfg.epochs)
        if tcfg.lr != run.train_config.lr:
            run.set_lr(tcfg.lr)
        run.train_config = dataclasses.replace(run.train_config, batch_size=tcfg.batch_size, device=tcfg.device)

    def _update_plan(self, *_) -> None:
        """Say what Start will do, in words, on the Start button and above the progress bars."""
        run, form = self.session.run, self.training_dock.form
        target = form.epochs.value()
        if self.session.training and run is not None:
            text, plan = "&Start", f"Training to {run.target_epochs} epochs."
        elif run is None:
            text, plan = f"&Train to {target} epochs", f"Start builds a new model and trains it to {target} epochs."
        else:
            done = run.epochs_done
            more = target - done
            if more <= 0:
                text = "&Start"
                plan = (f"The model has trained {done:g} of {target} epochs: raise Epochs (total) to train more.")
            elif run.progress.mid_epoch:  # "Train 1.544 more" reads as a glitch
                p = run.progress
                text = f"&Continue to {target} epochs"
                plan = (f"Start continues epoch {p.epoch + 1} from step {p.step + 1} of {p.steps_per_epoch} "
                        f"and trains to {target} epochs.")
            else:
                text = f"&Train {more:g} more" if done else f"&Train to {target} epochs"
                plan = (f"Start continues from epoch {done:g} to {target} ({more:g} more)." if done
                        else f"Start trains the model to {target} epochs.")
        self.start_action.setText(text)
        self.training_dock.show_plan(plan)

    def toggle_pause(self) -> None:
        if self.session.state == "running":
            self.controller.pause()
        elif self.session.state == "paused":
            self.controller.resume()

    def stop_training(self) -> None:
        self.controller.stop()
        self.statusBar().showMessage("Stopping after the current batch...")

    # ===================================================================== session reactions
    @Slot(object)
    def _on_dataset(self, dataset) -> None:
        c, h, w = dataset.image_shape
        held = f" + {len(dataset.validation):,} validation" if len(dataset.validation) else ""
        self.dataset_label.setText(f"{dataset.name}: {len(dataset.train):,} training{held} images, "
                                   f"{w}×{h}{'' if c == 1 else ' colour'}")
        self.training_dock.form.suit_images(c)

    @Slot(object)
    def _on_run(self, run) -> None:
        """A new, opened or discarded model: every view starts over from the run."""
        form = self.training_dock.form
        form.set_model_locked(False)
        if run is not None:
            form.set_model_config(run.model_config)
            form.set_train_config(run.train_config)
            form.set_model_locked(True)
        elif self.session.dataset is not None:
            form.suit_images(self.session.dataset.image_shape[0])
        self.loss_plot.set_run(run)
        self._update_title()
        self._update_plan()

    @Slot(object)
    def _on_epoch(self, record: dict) -> None:
        self.loss_plot.schedule()
        run = self.session.run
        self.training_dock.show_epoch(record, run.model_config if run is not None else None)

    @Slot(object)
    def _on_step(self, ev: dict) -> None:
        self.loss_plot.schedule()
        run = self.session.run
        self.training_dock.show_step(ev, run.kind.plotted_terms() if run is not None else [])
        self.speed_label.setText(f"{ev['samples_per_s']:,.0f} images/s")

    @Slot(int, int, str)
    def _on_preparing(self, done: int, total: int, what: str) -> None:
        self.training_dock.show_preparing(done, total, what)

    @Slot(str)
    def _on_device(self, text: str) -> None:
        self.device_label.setText(f"Device: {text}")

    @Slot(str)
    def _on_state(self, state: str) -> None:
        idle = state == "idle"
        self.start_action.setEnabled(idle)
        self.pause_action.setEnabled(not idle)
        self.stop_action.setEnabled(not idle)
        paused = state == "paused"
        self.pause_action.setText("&Resume" if paused else "&Pause")
        style = self.style()
        self.pause_action.setIcon(style.standardIcon(
            style.StandardPixmap.SP_MediaPlay if paused else style.StandardPixmap.SP_MediaPause))
        for act in (self.new_model_action, self.open_model_action):
            act.setEnabled(idle)
        self.open_dataset_menu.setEnabled(idle)
        self.recent_menu.setEnabled(idle)
        self.training_dock.form.set_busy(not idle)
        if paused:
            self.statusBar().showMessage("Paused")
        elif state == "running":
            self.statusBar().showMessage("Training...")
        if idle:
            self.speed_label.setText("")
            self.loss_plot.schedule()
        self._update_plan()

    @Slot(bool)
    def _on_dirty(self, dirty: bool) -> None:
        self._update_title()

    @Slot(str, str)
    def _on_training_failed(self, message: str, details: str) -> None:
        dialogs.show_error(self, "Training stopped", message, details)

    @Slot(object)
    def _on_training_finished(self, result: dict) -> None:
        self.training_dock.show_finished(result)
        text = {"finished": "Training finished", "cancelled": "Training stopped",
                "diverged": "Training diverged"}.get(result["status"], "Training ended")
        done = float(result["epochs_done"])
        amount = f"{done:g} epoch{'' if done == 1 else 's'}" if done.is_integer() else f"{done:.2f} epochs"
        self.statusBar().showMessage(f"{text}: {amount} in total", 6000)

    def _update_title(self) -> None:
        s = self.session
        if s.run is None:
            doc = "no model"
        else:
            doc = s.path.name if s.path is not None else "untitled model"
        self.setWindowTitle(f"{doc}[*] — {APPLICATION}")
        self.setWindowModified(s.dirty)

    def _tidy_export_menu(self) -> None:
        others = [a for a in self.export_menu.actions() if a is not self._export_placeholder and not a.isSeparator()]
        self._export_placeholder.setVisible(not others)

    # ===================================================================== help, closing
    def show_guide(self):
        """Help > User Guide: modeless, so it can stay open beside the window it describes."""
        from .help_dialogs import GuideDialog

        box = GuideDialog(self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        return box

    def show_shortcuts(self):
        from .help_dialogs import ShortcutsDialog

        box = ShortcutsDialog(self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        return box

    def show_getting_started(self):
        from .help_dialogs import GettingStartedDialog

        box = GettingStartedDialog(self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        return box

    def show_about(self) -> None:
        QMessageBox.about(
            self, f"About {APPLICATION}",
            f"<h3>{APPLICATION} {__version__}</h3>"
            "<p>Train autoencoders and variational autoencoders on images, and explore what "
            "their latent spaces learned.</p>"
            "<p>Models are plain PyTorch; checkpoints hold only weights and settings.</p>")

    def show_model_info(self) -> None:
        from .model_info import ModelInfoDialog

        s = self.session
        run = s.saved_state if s.training and s.saved_state is not None else s.run
        if run is None:
            dialogs.show_info(self, "About this model", "There is no model yet: train or open one.")
            return
        # While training, the run itself is the worker's: only a finished epoch's copy is measured.
        box = ModelInfoDialog(self, run, s.dataset, training=s.training,
                              measurable=not s.training or s.saved_state is not None)
        box.open()

    def childEvent(self, event) -> None:
        """Docks tabbed together share a tab bar the window makes on demand; Qt elides their
        titles to "Gr..." when five share a 340 px column. Whole titles with scroll arrows read
        better, so every such bar is set up once it exists (a child is only a QObject while the
        ChildAdded event is delivered, hence the deferred call)."""
        super().childEvent(event)
        if event.type() == QEvent.Type.ChildAdded:
            QTimer.singleShot(0, self._whole_tab_titles)

    def _whole_tab_titles(self) -> None:
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if bar.elideMode() != Qt.TextElideMode.ElideNone:
                bar.setElideMode(Qt.TextElideMode.ElideNone)
                bar.setUsesScrollButtons(True)

    def reset_layout(self) -> None:
        """Every dock back in its place, shown and docked, at the first-start sizes."""
        for dock in self.findChildren(QDockWidget):
            dock.setFloating(False)
        self.restoreState(self._default_layout)
        for dock in self.findChildren(QDockWidget):
            dock.show()
        self.resizeDocks([self.training_dock], [350], Qt.Orientation.Horizontal)
        self.resizeDocks([self.loss_dock], [230], Qt.Orientation.Vertical)
        explore = getattr(self, "explore", None)
        if explore is not None:
            explore.default_sizes(self)

    def show_compare(self):
        """The Compare Runs window (one, kept); opened with the current model in its list."""
        from .compare_view import CompareWindow

        if self.compare_window is None:
            self.compare_window = CompareWindow(self)
            if self.session.run is not None:
                self.compare_window.add_current()
        self.compare_window.show()
        self.compare_window.raise_()
        self.compare_window.activateWindow()
        return self.compare_window

    def shutdown(self) -> None:
        """Stop all background work and wait for it (no thread outlives the window)."""
        if self.compare_window is not None:
            self.compare_window.shutdown()
        self.controller.shutdown()
        self.loader.shutdown()
        explore = getattr(self, "explore", None)
        if explore is not None:
            explore.shutdown()
        if self._torch_worker is not None:
            self._torch_worker.join()
            self._torch_worker = None

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            # Training waits while the user decides: no epochs pass behind the question.
            paused_here = self.session.state == "running"
            if paused_here:
                self.controller.pause()
            if not self._confirm_discard("quitting"):
                if paused_here:
                    self.controller.resume()
                event.ignore()
                return
            self._closing = True
            self.shutdown()
            autosave.discard(autosave.own_autosave_path())
            self.settings.save_window(self)
            self.settings.sync()
        event.accept()
