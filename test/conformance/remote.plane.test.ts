import { setUpRemotePlane } from "../support/signerPlanes.js";
import { describePlaneConformance } from "./planeConformance.js";

describePlaneConformance("remote", setUpRemotePlane);
