// HTTP request and response schemas of the content service.
export {};
