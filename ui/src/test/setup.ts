import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// the settings form loads on demand: a cold first import can take a few seconds on a busy machine
configure({ asyncUtilTimeout: 8000 });
afterEach(() => cleanup());
