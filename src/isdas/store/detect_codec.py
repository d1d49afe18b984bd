"""Store stage: (de)serialisation of detections and of the detector's carried state.

Detections travel as JSON text; the detector (numpy state, open episodes, calibration
records) as one npz blob. No database access here; imported by store/detections.py.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np

from isdas.analyse.episodes import Episode, Tracker, from_json, to_json
from isdas.analyse.pipeline import Detector
from isdas.analyse.state import from_arrays, to_arrays
from isdas.models import CountryShare, Detection, SensorShare

TIME_FIELDS = ("start", "detected_at", "end")


def detection_to_json(det: Detection) -> str:
    """A detection as JSON text (times ISO-8601 UTC)."""
    data: dict[str, Any] = asdict(det)
    for name in TIME_FIELDS:
        value = data[name]
        data[name] = value.astimezone(UTC).isoformat() if value is not None else None
    return json.dumps(data, sort_keys=True)


def detection_from_json(text: str) -> Detection:
    """Inverse of detection_to_json."""
    data = json.loads(text)
    for name in TIME_FIELDS:
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name]).astimezone(UTC)
    data["sensors"] = tuple(SensorShare(**s) for s in data["sensors"])
    data["countries"] = tuple(CountryShare(**c) for c in data["countries"])
    data["fingerprints"] = tuple(data["fingerprints"])
    data["ports"] = tuple(data["ports"])
    return Detection(**data)


def detector_to_bytes(det: Detector) -> bytes:
    """The detector as npz bytes."""
    arrays: dict[str, Any] = {f"s_{k}": v for k, v in to_arrays(det.state).items()}
    episodes = [to_json(e) for e in det.tracker.open.values()]
    meta = json.dumps({"episodes": episodes, "budget": det.budget})
    buf = io.BytesIO()
    arrays.update(meta=np.array(meta), cal_burst=det.cal_burst, cal_slow=det.cal_slow)
    np.savez(buf, **arrays)
    return buf.getvalue()


def detector_from_bytes(blob: bytes) -> Detector:
    """Inverse of detector_to_bytes."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        arrays = {k[2:]: npz[k] for k in npz.files if k.startswith("s_")}
        meta = json.loads(str(npz["meta"]))
        cal_burst, cal_slow = npz["cal_burst"], npz["cal_slow"]
    eps: list[Episode] = [from_json(e) for e in meta["episodes"]]
    tracker = Tracker(open={e.ident: e for e in eps})
    return Detector(from_arrays(arrays), tracker, cal_burst, cal_slow, float(meta["budget"]))
