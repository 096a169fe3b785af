import { runService } from "@tidings/service-kit";
import { messageSenderService } from "./service.ts";

await runService(messageSenderService, process.argv[2]);
