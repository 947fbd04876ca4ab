"""What a test sent and validated, whatever carried it.

``recorder`` (:class:`TrafficRecorder`: httpx and requests exchanges, a served emulator's side), ``exchanges``
(:func:`without_carried`: each exchange once when a cassette also carried it), ``validations``
(:func:`observe_validations`: direct calls of the validation functions). Plain Python: the pytest plugin wires it in.
"""

from __future__ import annotations

from pytest_runcommand.traffic.exchanges import exchange_key, without_carried
from pytest_runcommand.traffic.recorder import TrafficRecorder
from pytest_runcommand.traffic.validations import ValidationSink, observe_validations

__all__ = ["TrafficRecorder", "ValidationSink", "exchange_key", "observe_validations", "without_carried"]
