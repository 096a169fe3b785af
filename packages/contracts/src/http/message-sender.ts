// HTTP request and response schemas of the message-sender service.
export {};
