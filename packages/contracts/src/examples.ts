/** Example values shared by the catalog's messages and hook events (documentation and contract tests). */
export const NOW = "2026-01-05T09:00:00.000Z";
export const IDENTITY_ID = "0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01";
export const OUTBOUND_ID = "8d1f1c0a-2b3c-5d4e-8f60-718293a4b5c6";

export const identity = {
  id: IDENTITY_ID,
  version: 1,
  details: {
    default_addr_type: "msisdn",
    addresses: { msisdn: { "+27820001001": { default: true } } },
    lang_code: "eng_ZA",
  },
  communicate_through: null,
  operator: null,
  created_at: NOW,
  created_by: 1,
  updated_at: NOW,
  updated_by: 1,
  addresses: [
    {
      type: "msisdn",
      address: "+27820001001",
      default: true,
      optedout: false,
      inactive: false,
      verified: false,
    },
  ],
};

export const contentSchedule = {
  id: 1,
  minute: "0",
  hour: "8",
  day_of_week: "1,4",
  day_of_month: "*",
  month_of_year: "*",
  timezone: "Africa/Johannesburg",
  cron_definition: "0 8 * * 1,4",
  created_at: NOW,
  updated_at: NOW,
};

export const messageSet = {
  id: 1,
  short_name: "prebirth.mother.text.10_42",
  label: "Pregnancy, from week 10",
  notes: null,
  channel: null,
  next_set: 2,
  default_schedule: 1,
  content_type: "text",
  created_at: NOW,
  updated_at: NOW,
};

export const message = {
  id: 1,
  messageset: 1,
  sequence_number: 1,
  lang: "eng_ZA",
  text_content: "Welcome to your pregnancy messages.",
  binary_content: null,
  metadata: {},
  created_at: NOW,
  updated_at: NOW,
};

export const subscription = {
  id: "5a0c1e9e-1f1b-4b8a-9a52-6f7b2d9c0e11",
  version: 1,
  identity: IDENTITY_ID,
  messageset: 1,
  next_sequence_number: 2,
  initial_sequence_number: 1,
  lang: "eng_ZA",
  active: true,
  completed: false,
  schedule: 1,
  process_status: 0,
  metadata: {},
  created_at: NOW,
  updated_at: NOW,
};

export const outboundStatus = {
  id: OUTBOUND_ID,
  status: "submitted",
  to_identity: IDENTITY_ID,
  channel: "LOG",
  provider_id: "log-8d1f1c0a",
  reason: null,
  at: NOW,
};
