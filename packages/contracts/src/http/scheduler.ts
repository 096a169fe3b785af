// HTTP request and response schemas of the scheduler service.
export {};
