"""Every message box and file chooser the window uses, in one place.

Errors are shown without blocking (`QMessageBox.open()`), and the last one is kept on the
window as `last_error`, so tests can wait for it. Questions must block for their answer;
tests replace these functions (monkeypatch `vaestudio.gui.dialogs.ask_*` / `choose_*`).
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from .workers import describe_exception

MODEL_FILTER = "VAE Studio models (*.pt);;All files (*)"
NPZ_FILTER = "NumPy arrays (*.npz);;All files (*)"


def show_error(parent: Optional[QWidget], title: str, error, details: str = "") -> QMessageBox:
    """Show an error without blocking. `error` is an exception or a message; exceptions that
    are not VaeStudioErrors get their traceback under "Show Details..."."""
    if isinstance(error, BaseException):
        message, tb = describe_exception(error)
        details = details or tb
    else:
        message = str(error)
    if parent is not None and hasattr(parent, "last_error"):
        parent.last_error = message
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    if details:
        box.setDetailedText(details)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def unsaved_text(unsaved) -> str:
    """What the save question says is not saved: training, groups, or both."""
    u = set(unsaved)
    if u == {"groups"}:
        return "The model's groups have changes that are not saved."
    if "groups" in u:
        return "The model has training and group changes that are not saved."
    return "The model has training that is not saved."


def ask_save_changes(parent: QWidget, what: str, unsaved=("training",)) -> str:
    """'save' | 'discard' | 'cancel' for a model with unsaved training or groups."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved model",
                      f"{unsaved_text(unsaved)}\nSave it before {what}?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")


def ask_yes_no(parent: QWidget, title: str, question: str) -> bool:
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_new_model_for_dataset(parent: QWidget, model_shape: str, name: str, data_shape: str) -> bool:
    """True: make a new model for the data set; False: keep the model and the current data set."""
    box = QMessageBox(QMessageBox.Icon.Question, "The model does not fit this data set",
                      f"The current model takes {model_shape} images, but {name} has {data_shape} images.",
                      QMessageBox.StandardButton.NoButton, parent)
    new = box.addButton("New Model for This Data Set", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Keep Current Model", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(new)
    box.exec()
    return box.clickedButton() is new


def show_info(parent: QWidget, title: str, text: str) -> QMessageBox:
    """Plain facts in a non-blocking box whose text can be selected and copied."""
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("infoDialog")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def choose_open_model(parent: QWidget, folder: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, "Open Model", folder, MODEL_FILTER)
    return path


def choose_save_model(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Save Model As", suggested, MODEL_FILTER)
    if path and not path.endswith(".pt"):
        path += ".pt"
    return path


def choose_folder(parent: QWidget, title: str, folder: str) -> str:
    return QFileDialog.getExistingDirectory(parent, title, folder)


def choose_file(parent: QWidget, title: str, folder: str, filter_: str = NPZ_FILTER) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filter_)
    return path


CSV_FILTER = "CSV tables (*.csv)"
CODES_FILTER = "CSV tables (*.csv);;NumPy arrays (*.npy)"


def choose_save_file(parent: QWidget, title: str, suggested: str, filter_: str = CSV_FILTER) -> str:
    """A file to write, or "" when cancelled; a name without one of the filters' suffixes gets the
    chosen filter's (a table saved as "codes" becomes "codes.csv")."""
    import re

    path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, filter_)
    suffixes = [s.lower() for s in re.findall(r"\*(\.\w+)", filter_)]
    if path and suffixes and not path.lower().endswith(tuple(suffixes)):
        path += (re.findall(r"\*(\.\w+)", chosen) or suffixes)[0]
    return path


IMAGE_FILTER = "Pictures (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"


def choose_image_files(parent: QWidget, folder: str) -> list[str]:
    """Picture files to encode with the current model (File > Encode Images...)."""
    paths, _ = QFileDialog.getOpenFileNames(parent, "Encode Images", folder, IMAGE_FILTER)
    return list(paths)


def dataset_missing_box(parent: Optional[QWidget], name: str, looked_in: list[str], can_download: bool,
                        needed: str = "", why_not: str = "") -> tuple[QMessageBox, dict]:
    """The "files not found" question, built but not shown: (box, {answer: button})."""
    where = "\n".join(f"    {p}" for p in looked_in if p)
    text = f"The {name} files are not on this computer. They were looked for in:\n{where}"
    if needed:
        text += f"\n\nThe files it needs: {needed}."
    if can_download:
        text += f"\n\nChoose the folder that holds them, or download {name} from the internet."
    else:
        text += "\n\nChoose the folder that holds them."
        if why_not:
            text += f" Downloading is not possible now: {why_not}."
    box = QMessageBox(QMessageBox.Icon.Question, f"{name} not found", text, QMessageBox.StandardButton.NoButton,
                      parent)
    box.setObjectName("datasetMissingDialog")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    buttons = {"choose": box.addButton("Choose Folder...", QMessageBox.ButtonRole.AcceptRole)}
    if can_download:
        buttons["download"] = box.addButton("Download", QMessageBox.ButtonRole.ActionRole)
    buttons["cancel"] = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(buttons["choose"])
    box.setEscapeButton(buttons["cancel"])
    return box, buttons


def ask_dataset_missing(parent: Optional[QWidget], name: str, looked_in: list[str], can_download: bool,
                        needed: str = "", why_not: str = "") -> str:
    """'choose' | 'download' | 'cancel' for a data set whose files were not found; Download is
    offered only when `can_download` (the download site answered), else `why_not` says why."""
    box, buttons = dataset_missing_box(parent, name, looked_in, can_download, needed, why_not)
    box.exec()
    clicked = box.clickedButton()
    return next((answer for answer, button in buttons.items() if button is clicked), "cancel")
