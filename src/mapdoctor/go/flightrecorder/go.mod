module mapdoctor/flightrecorder

go 1.21
