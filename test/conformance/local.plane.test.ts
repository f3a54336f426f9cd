import { setUpLocalPlane } from "../support/signerPlanes.js";
import { describePlaneConformance } from "./planeConformance.js";

describePlaneConformance("local", setUpLocalPlane);
