"""What staff and customers do that changes data, each done once here for every front end (the
console, the command line, the chat API) with its audit entry: the only code that writes the
audit log. Front ends check who may act; an action records who did."""
