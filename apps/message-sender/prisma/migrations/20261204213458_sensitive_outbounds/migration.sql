-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "sensitive" BOOLEAN NOT NULL DEFAULT false;

-- Sensitive content (a verification code, `sensitive: true`) is kept only while the outbound waits to be sent:
-- cleared on any row that is, or becomes, anything but queued. Identity's verification codes
-- (`metadata.purpose = verification`) are sensitive even when an older sender left the flag out.
-- Hand-written. The migration runner splits statements at every semicolon, so the function body writes its
-- semicolons as \073 (octal, in an E'' string).
CREATE FUNCTION outbound_clear_sensitive() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  NEW.sensitive := NEW.sensitive OR COALESCE(NEW.metadata ->> ''purpose'' = ''verification'', false)\073
  IF NEW.sensitive AND NEW.status <> ''queued'' THEN
    NEW.content := NULL\073
  END IF\073
  RETURN NEW\073
END';

CREATE TRIGGER outbound_clear_sensitive BEFORE INSERT OR UPDATE ON "outbound"
  FOR EACH ROW EXECUTE FUNCTION outbound_clear_sensitive();
