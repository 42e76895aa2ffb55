"""Reports: render a Diagnosis. Every reporter follows :class:`mapdoctor.reports.base.Reporter`."""
