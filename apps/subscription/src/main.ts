import { runService } from "@tidings/service-kit";
import { subscriptionService } from "./service.ts";

await runService(subscriptionService, process.argv[2]);
