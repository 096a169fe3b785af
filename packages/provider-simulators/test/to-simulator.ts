import RequestClient from "twilio/lib/base/RequestClient.js";

/** Points the real twilio SDK (api.twilio.com and content.twilio.com alike) at the simulator's origin. */
export class ToSimulator extends RequestClient {
  constructor(private readonly origin: string) {
    super({ timeout: 5_000 });
  }
  override request<T>(opts: RequestClient.RequestOptions<T>) {
    const uri = new URL(opts.uri);
    return super.request({ ...opts, uri: `${this.origin}${uri.pathname}${uri.search}` });
  }
}
