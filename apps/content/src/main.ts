import { runService } from "@tidings/service-kit";
import { contentService } from "./service.ts";

await runService(contentService, process.argv[2]);
