// Tests for StepWorker.
