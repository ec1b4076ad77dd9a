"""The fault-injection suite (issue #13): every storage emulator and the Coda fake behind a loopback proxy."""
