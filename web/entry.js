// The explorer's map view uses this one library; service/static/map.js reads window.reglScatterplot.
import createScatterplot from "regl-scatterplot";

window.reglScatterplot = { createScatterplot };
