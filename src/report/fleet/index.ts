/** `assignable fleet`: many hosts, one summary (pure; the command reads the inputs). */
export { hostFromSurvey, hostFromSurveyJson, FleetDocumentError, type FleetHost, type FleetDevice } from './host.js';
export { fleetSummary, deviceMatches, FLEET_SCHEMA, type FleetSummary, type FleetQuery, type InputError } from './summary.js';
export { renderFleetText, renderFleetProm, renderFleetHtml } from './render.js';
