import { runService } from "@tidings/service-kit";
import { schedulerService } from "./service.ts";

await runService(schedulerService(), process.argv[2]);
