// REST hooks (Seed webhooks): registration, signed delivery with retries, failure records. See README.
export {};
