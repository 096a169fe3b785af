-- The columns (now also made by packages/hooks/prisma/migrations, applied before this app's migrations)
ALTER TABLE "tidings_hook" ADD COLUMN IF NOT EXISTS "previous_secret" TEXT,
ADD COLUMN IF NOT EXISTS "previous_secret_expires_at" TIMESTAMPTZ(3);

-- Standard Webhooks secrets: `whsec_` and the base64 of the HMAC key. A secret from before keeps its key (the
-- bytes of the old secret string), so a receiver that knew it can verify with `whsec_` + base64(old secret).
UPDATE "tidings_hook"
SET "secret" = 'whsec_' || replace(encode(convert_to("secret", 'UTF8'), 'base64'), E'\n', '')
WHERE "secret" NOT LIKE 'whsec\_%';
