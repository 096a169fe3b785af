-- One database per service (pnpm db:migrate also creates any that are missing).
CREATE DATABASE tidings_identity;
CREATE DATABASE tidings_subscription;
CREATE DATABASE tidings_content;
CREATE DATABASE tidings_scheduler;
CREATE DATABASE tidings_message_sender;
