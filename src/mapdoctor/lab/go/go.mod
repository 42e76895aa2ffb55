module mapdoctorlab

go 1.21
