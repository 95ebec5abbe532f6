"""The command line (`newsrag`), above rag/, server/ and eval/: nothing below imports it."""
