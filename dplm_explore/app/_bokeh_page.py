"""BokehJS in the explorer's page: loaded inline with page-level switches that spare the browser
work (:func:`load_bokehjs`), and the jupyter_bokeh widget that carries each Bokeh document to the
page, one patch per frame (:func:`bokeh_widget`, :func:`one_patch`).
"""

from __future__ import annotations

import contextlib
import json
from importlib import resources

#: BokehJS 3.x asks the CSS cascade for a ``--bk-*`` override of every colour, width and font of
#: every visual at every paint, and for the plot's font size at every layout (``getComputedStyle``
#: each time, which can force a style recalc of the whole page): 15-20 % of the browser's time per
#: frame in the explorer. The app defines no ``--bk-*`` variables, so the answer is always "none",
#: and its plots' font size never changes; this page-level switch says so without asking
#: (bokeh/bokeh#15286). Also, every renderer rewrites its position style sheet at every paint,
#: mostly with the text it already has, and each rewrite invalidates the page's styles, so that
#: the next canvas text (axis labels) forces a style recalculation: a rewrite with the same text is
#: skipped. And jupyter_bokeh 4.1 sends every change a kernel patch made back to the kernel
#: (whole images and traces, gzipped in the page, every frame): listeners that take single events
#: (jupyter_bokeh's; BokehJS's own sessions take batches and filter these themselves) no longer
#: hear changes that BokehJS marks as not to be synced. Changes made in the page (clicks, the
#: frame acknowledgement) still go to the kernel. Guarded: if BokehJS changes, it does nothing.
#: (the switches ship as a JavaScript file beside this module)
PATCH_JS = "bokeh_page_patch.js"


def load_bokehjs() -> None:
    """Put BokehJS into the page from the installed bokeh package (inline: no CDN, works
    offline). Needed once per page before a BokehModel widget renders."""
    from bokeh.io import output_notebook
    from bokeh.resources import INLINE
    from IPython.display import Javascript, display

    output_notebook(resources=INLINE, hide_banner=True)
    display(Javascript(resources.files(__package__).joinpath(PATCH_JS).read_text()))


@contextlib.contextmanager
def one_patch(widgets):
    """Everything drawn inside goes to the page as one patch per Bokeh document (``widgets``:
    those of :func:`bokeh_widget`). Sent change by change, a frame was 8-10 patches that the
    page applied in separate tasks, with a repaint between them (about two paints of the map and
    of the traces per frame)."""
    widgets = list(widgets)
    for b in widgets:
        b.hold()
    try:
        yield
    finally:
        for b in widgets:
            b.flush()


# attributes only the kernel sets: BokehJS echoes every patch it applies back to the kernel
# (jupyter_bokeh 4 queues the change events raised while a patch is applied and sends them after),
# and deserialising those echoes (whole images, every frame) would keep the kernel busy
_KERNEL_OWNED = frozenset({"data", "text", "start", "end", "location", "items", "title"})


def _patch_message(events):
    """One PATCH-DOC message for ``events`` (all of one document), with its arrays inline (base64
    in the JSON) rather than as binary buffers. jupyter_bokeh sends each part of a message as its
    own comm message: with buffers a frame of the explorer was 28 of them (header, metadata,
    content, then a reference and the bytes of every array), each handled by the kernel, the
    server and the page on its own; inline it is 3 per document. (Bokeh's own ``create`` with
    ``Serializer(deferred=False)``; if a Bokeh release moves these internals, the usual message
    with buffers.)"""
    from bokeh.protocol import Protocol

    try:
        from bokeh.core.serialization import Serializer
        from bokeh.protocol.messages.patch_doc import patch_doc

        doc = events[0].document
        models = doc.models
        ser = Serializer(references=models.synced_references, deferred=False)
        content = {"events": ser.encode(events)}
        models.flush_synced(lambda model: not ser.has_ref(model))
        return patch_doc(patch_doc.create_header(), {}, content)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - a future Bokeh
        return Protocol().create("PATCH-DOC", events)


def bokeh_widget(layout):
    """A jupyter_bokeh BokehModel that ignores the browser's echoes of kernel-owned attributes.
    (``combine_events`` stays off: in JupyterLab it held every acknowledgement until the kernel
    reported idle.)"""
    from jupyter_bokeh import BokehModel

    class QuietBokehModel(BokehModel):
        _held: list | None = None

        def _sync_model(self, model, content, buffers):
            if content.get("kind") == "ModelChanged" and content.get("attr") in _KERNEL_OWNED:
                return
            super()._sync_model(model, content, buffers)

        def hold(self) -> None:
            """Collect the document's changes from now on instead of sending each at once."""
            if self._held is None:
                self._held = []

        def flush(self) -> None:
            """Send the changes collected since :meth:`hold` as one patch and stop collecting."""
            held, self._held = self._held, None
            if held:
                self._send_patch(held)

        def _document_patched(self, event) -> None:
            if event.setter is self:
                return
            if self._held is not None:
                self._held.append(event)
            else:
                self._send_patch([event])

        def _send_patch(self, events) -> None:
            msg = _patch_message(events)
            self.send({"msg": "patch", "payload": msg.header_json})
            self.send({"msg": "patch", "payload": msg.metadata_json})
            self.send({"msg": "patch", "payload": msg.content_json})
            for buffer in msg.buffers:
                self.send({"msg": "patch", "payload": json.dumps(buffer.ref)})
                self.send({"msg": "patch"}, [buffer.to_bytes()])

    return QuietBokehModel(layout)
