-- CreateIndex
CREATE INDEX "address_book_entry_addresses_idx" ON "address_book_entry" USING GIN ("addresses" jsonb_path_ops);
