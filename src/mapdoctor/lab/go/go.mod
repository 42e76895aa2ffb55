module mapdoctorlab

go 1.21

require mapdoctor/flightrecorder v0.0.0

// The flight recorder package ships beside the lab, inside the mapdoctor package.
replace mapdoctor/flightrecorder => ../../go/flightrecorder
