import { runService } from "@tidings/service-kit";
import { identityService } from "./service.ts";

await runService(identityService, process.argv[2]);
