// HTTP request and response schemas of the subscription service.
export {};
