/* The system-call layer. */
