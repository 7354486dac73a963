// Tests for StepFunctionsLocal.
